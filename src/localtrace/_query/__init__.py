"""The read side: the WHERE builder, listings, trees, rows into Runs, full text, projects,
feedback, attachments and LangWatch trace search. Imports nothing of the write side."""
