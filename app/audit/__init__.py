"""The admin history: who changed which unit, site, token or calendar, when, from what to what.

Below every other domain, so that workdays, directory, auth and reports can all record in it.
"""
