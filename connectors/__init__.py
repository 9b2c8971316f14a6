"""Connector plugins: pull raw records from partner databases (entry-point group `fedsearch.connectors`)."""
