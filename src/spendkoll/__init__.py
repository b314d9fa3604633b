"""spendkoll: spend analysis for Swedish public-sector buyers.

Importing the package turns off the usage telemetry of the tools it drives
(dbt, Great Expectations, Cosmos, Airflow) unless the caller already decided.
Nothing in spendkoll phones home.
"""

from spendkoll.runtime import disable_telemetry

disable_telemetry()

__version__ = "0.1.0"
