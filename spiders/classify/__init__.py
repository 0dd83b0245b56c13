"""isop's site classifier: explainable, rule-weighted, multilingual.

Pages become weighted :class:`Signal` s (``Classifier.page_signals``); a site's signals
aggregate (``SiteState`` or ``Classifier.verdict``) into a :class:`Verdict` with a score,
a category and the reasons, strongest first. Rules, lexicons and host lists are data in
``config/classifier/``; the classifier version hashes them.
"""

from spiders.classify.model import CATEGORIES, DELIVERY, Neighbourhood, PageInput, Signal, Verdict
from spiders.classify.verdict import DEFAULT_CONFIG_DIR, Classifier, SiteState

__all__ = [
    "CATEGORIES",
    "DEFAULT_CONFIG_DIR",
    "DELIVERY",
    "Classifier",
    "Neighbourhood",
    "PageInput",
    "Signal",
    "SiteState",
    "Verdict",
]
