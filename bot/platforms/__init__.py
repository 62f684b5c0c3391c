"""Chat platforms, wired: each module turns settings and the conversation into a running adapter."""
