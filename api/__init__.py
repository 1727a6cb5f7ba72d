"""Interfaces: the wijken CLI and the HTTP service."""
