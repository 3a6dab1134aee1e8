"""The imported red-team transcripts: validation, import, turns, rendering."""
