"""Indexers: turn raw records into `Record`s, deduplicate them, and write them to an engine."""
