"""Dagster edge of this domain: assets, jobs, schedules, sensors and checks."""

import dagster as dg

defs = dg.Definitions()
