"""Darkroom's contracts: every event, request message and API body, and every topic name.

This package depends on pydantic only: no I/O, no broker, no web framework.
"""
