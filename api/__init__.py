"""The REST API for programs that pull labels, and its tokens."""
