"""What every app uses: roles, charts, tables, the CSV defuser, admin helpers."""
