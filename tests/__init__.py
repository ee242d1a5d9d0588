"""Tests for IMS Screen: `test_<module>.py` covers `app/<module>.py` or `rules/<module>.py`."""
