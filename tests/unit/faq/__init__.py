"""Tests of the FAQ engine (faq/) and of the ``hrbot faq`` commands."""
