"""The prevention value model: a council's prevention assumptions, valued the Green Book way.

model.py reads and validates a model file (the plan file's safe YAML rules), evaluate.py does the
arithmetic (discounting, optimism bias, Monte Carlo, tornado), report.py writes HTML, CSV and JSON.
"""
