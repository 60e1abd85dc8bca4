"""The ten themes a resident rates, and which scoring pillar each one feeds.

The themes follow the good-growth split used everywhere in the dashboard: jobs, pay and productivity
are the economy; health, education, housing, poverty, crime and safety and wellbeing are public-service
outcomes. The environment is rated (residents care about it) but the score has no environment pillar
with outcomes to weight yet, so it is reported and never folded into the economy/public-services split.
"""
from __future__ import annotations

THEMES: tuple[str, ...] = ("health", "education", "housing", "poverty", "crime_safety", "wellbeing",
                           "jobs", "pay", "productivity", "environment")
THEME_LABELS: dict[str, str] = {
    "health": "Health", "education": "Education and skills", "housing": "Housing", "poverty": "Poverty",
    "crime_safety": "Crime and safety", "wellbeing": "Wellbeing", "jobs": "Jobs", "pay": "Pay",
    "productivity": "Productivity", "environment": "Environment",
}
PILLAR_OF: dict[str, str | None] = {
    "health": "public_services", "education": "public_services", "housing": "public_services",
    "poverty": "public_services", "crime_safety": "public_services", "wellbeing": "public_services",
    "jobs": "economy", "pay": "economy", "productivity": "economy", "environment": None,
}
SCALE = (0, 10)  # each theme: 0 = does not matter to me, 10 = matters most
DEFAULT_RATING = 5
MAX_TEXT_CHARS = 500
# Below this many responses a place's means are too uncertain to weight a score with: at n = 30 and a
# typical spread (sd ≈ 2.5 points on the 0–10 scale) the 95% interval of a mean is about ±0.9 points.
MIN_RESPONSES = 30
