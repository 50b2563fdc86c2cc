"""Glance: an image service for virtual machines (the 2011 v1 API)."""
__version__ = "2011.3.1"
