"""Troth: a company's privacy policy, declared once and kept in code."""

__version__ = "0.1.0"
