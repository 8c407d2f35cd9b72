"""The Dagster partitions shared by more than one domain's edge.

``query_designs``: one dynamic partition per query design (its UUID). The collection edge
adds keys (``new_query_designs_sensor``) and collects per key; the analysis edge analyses
per key. Defined once here so both edges name the same definition, and neither imports the
other.
"""

import dagster as dg

query_designs_partitions = dg.DynamicPartitionsDefinition(name="query_designs")
