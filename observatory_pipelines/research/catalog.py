"""Every research analysis, in the order the UI lists them (one asset each)."""

from __future__ import annotations

from observatory_pipelines.research.coordination import ANALYSIS as COORDINATION
from observatory_pipelines.research.dynamic_gexf import DYNAMIC_GEXF
from observatory_pipelines.research.emergent_terms import EMERGENT_TERMS
from observatory_pipelines.research.framework import ResearchAnalysis
from observatory_pipelines.research.interaction_networks import INTERACTION_NETWORKS
from observatory_pipelines.research.link_mining import ANALYSIS as LINK_MINING
from observatory_pipelines.research.propagation import ANALYSIS as PROPAGATION
from observatory_pipelines.research.spikes import VOLUME_SPIKES
from observatory_pipelines.research.temporal import TEMPORAL_COMPARISON

ANALYSES: tuple[ResearchAnalysis, ...] = (
    LINK_MINING,
    PROPAGATION,
    COORDINATION,
    EMERGENT_TERMS,
    VOLUME_SPIKES,
    INTERACTION_NETWORKS,
    DYNAMIC_GEXF,
    TEMPORAL_COMPARISON,
)
