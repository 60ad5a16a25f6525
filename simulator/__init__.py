"""Local stand-ins for Zoho CRM and CurrencyFreaks, speaking their documented wire formats.

The demo syncs from them and the tests run against them over real HTTP, so nothing in
Pipeline Pulse needs the internet. See server.py for how they are served and faulted.
"""
