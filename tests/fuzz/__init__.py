"""Property-based fuzzing of the front doors: strategies, the doors in process, the properties.

tests/fuzz/test_front_doors.py runs a few hundred cases per door; bench/fuzz.py runs ten thousand.
"""

import os

from hypothesis import HealthCheck, settings

# The suite's default (CI too): the same cases on every run, no example database written to disk.
settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
# HYPOTHESIS_PROFILE=explore: new cases on every run.
settings.register_profile("explore", parent=settings.get_profile("ci"), derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
