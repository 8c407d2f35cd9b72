"""``observatory``: the researcher's and the operator's command line (plain Python, no Dagster).

``main.py`` builds the one parser and mounts every command; each ``*_cmd.py`` reads from
the domains (credits, collection, analysis, arenas) and prints through ``output.py``.
Exit codes and the contract for commands other packages mount: ``docs/cli.md``.
"""
