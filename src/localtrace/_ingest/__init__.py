"""The write side: writer threads/processes, normalising runs, usage, upserts and roll-ups."""
