"""spendkoll: spend analysis for Swedish public-sector buyers.

Importing the package turns off the usage telemetry of the tools it drives
(dbt, Great Expectations, Cosmos, Airflow) unless the caller already decided,
and masks personnummer in every log record of the process (spendkoll.pii).
Nothing in spendkoll phones home.
"""

from spendkoll.pii import install_log_masking
from spendkoll.runtime import disable_telemetry

disable_telemetry()
install_log_masking()

__version__ = "0.1.0"
