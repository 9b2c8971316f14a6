"""fedsearch: free-access search over a country's scientific information.

This package is the core the other layers share: the record model
(record.py), the configuration (config.py), text analysis (analysis.py), the
search engines (engines/) and the command line (cli.py).
"""

__version__ = "0.1.0"
