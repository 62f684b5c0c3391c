"""The demo organisation and the seed scenario that ``hrbot demo`` plays."""
