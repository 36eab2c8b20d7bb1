""" "How to read this": what each coefficient shown on a page means, and no others."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from labelaudit.report._metrics import flat_metrics
from labelaudit.report.document import Section

__all__ = ["GLOSSARY", "how_to_read"]

_CHANCE = (
    "Chance-corrected coefficients ({names}) are 1 for perfect agreement and about 0 for "
    "agreement at chance level; negative values mean systematic disagreement. The Landis & "
    "Koch (1977) bands (below 0 poor, 0.00–0.20 slight, 0.21–0.40 fair, 0.41–0.60 moderate, "
    "0.61–0.80 substantial, 0.81–1.00 almost perfect) are a rough guide only: a coefficient "
    "depends on category prevalence and on the number of categories, so read the confidence "
    "interval, not just the point estimate."
)
_QUOTE = (
    "Which coefficient to quote: Krippendorff's α with its 95% CI is a good default (any number "
    "of annotators, missing ratings, and the distance of the measurement level). With exactly "
    "two annotators Cohen's κ is the customary figure. When one category dominates, chance-"
    "corrected coefficients can be low despite high raw agreement (the kappa paradox): report "
    "Gwet's AC or Brennan–Prediger beside them."
)

#: One paragraph per metric family (the first part of a flattened metric name).
GLOSSARY: dict[str, str] = {
    "percent_agreement": (
        "Percent agreement: the share of annotator pairs on an item that agree (for structured "
        "labels: whose whole annotations are identical), averaged over items. It ignores "
        "chance and looks better the fewer and the more unbalanced the categories are."
    ),
    "icc": (
        "Intraclass correlation (ICC): the share of rating variance due to the items; quote the "
        "Shrout & Fleiss form that matches the design (one-way or two-way, single or average "
        "rater)."
    ),
    "span_f1": (
        "Span F1: for each pair of annotators, 2 × matched spans / (spans of one + spans of the "
        "other). exact matches need the same start, end and label; overlap matches need the "
        "same label and intersecting ranges. micro pools all labels; per_label keeps one label. "
        "1 = identical spans; there is no chance correction."
    ),
    "token_alpha": (
        "Token α and token κ: every token gets the label of the span covering it (or O); "
        "Krippendorff's α and Fleiss' κ over those token labels are chance-corrected (0 = "
        "chance, 1 = identical)."
    ),
    "masi_alpha": (
        "MASI α and Jaccard α: Krippendorff's α over label sets with the MASI or 1 − Jaccard "
        "distance (1 = identical sets, 0 = chance). exact_set_agreement is the share of "
        "annotator pairs with identical sets."
    ),
    "per_label_kappa": (
        "Per-label κ and α: each label as present or absent, scored like a two-category label "
        "with Fleiss' κ and Krippendorff's α (0 = chance)."
    ),
    "box_f1": (
        "Box F1: boxes matched one-to-one by intersection over union (IoU); iou50 counts "
        "matches with IoU ≥ 0.5, iou50_95 averages F1 over the thresholds 0.50 to 0.95. "
        "mean_iou is the mean IoU of matched boxes; box_label_agreement the share of matches "
        "with the same label."
    ),
    "polygon_f1": (
        "Polygon F1: polygons matched one-to-one by their exact intersection over union "
        "(IoU of the areas, convex or not), scored like Box F1 (iou50, iou50_95, mean_iou)."
    ),
    "cuboid_f1": (
        "Cuboid F1: 3D boxes (centre, size, yaw) matched one-to-one by their exact 3D IoU "
        "(volume of the intersection over the union), scored like Box F1."
    ),
    "keypoint_f1": (
        "Keypoint F1: keypoint sets matched one-to-one by object keypoint similarity (OKS, "
        "COCO: 1 = same points, falling with distance relative to the object's size); oks50 "
        "counts matches with OKS ≥ 0.5, oks50_95 averages F1 over 0.50 to 0.95; mean_oks is "
        "the mean OKS of matched sets."
    ),
    "kendall_w": (
        "Kendall's W: concordance of the rankings of an item, 0 (none) to 1 (identical), "
        "averaged over items; kendall_tau is the mean Kendall τ-b of annotator pairs (−1 = "
        "reversed, 1 = identical)."
    ),
    "text_alpha": (
        "Text α: Krippendorff's α with the normalised Levenshtein distance of the texts (1 = "
        "identical, 0 = chance); mean_edit_distance is the mean distance of annotator pairs "
        "(0 = identical, 1 = nothing in common); normalized_exact_agreement the share of pairs "
        "with identical normalised texts."
    ),
}
_FAMILY = {
    "token_kappa": "token_alpha",
    "jaccard_alpha": "masi_alpha",
    "exact_set_agreement": "masi_alpha",
    "per_label_alpha": "per_label_kappa",
    "mean_iou": "box_f1",
    "box_label_agreement": "box_f1",
    "polygon_label_agreement": "polygon_f1",
    "cuboid_label_agreement": "cuboid_f1",
    "mean_oks": "keypoint_f1",
    "keypoint_label_agreement": "keypoint_f1",
    "kendall_tau": "kendall_w",
    "mean_edit_distance": "text_alpha",
    "normalized_exact_agreement": "text_alpha",
}
_CHANCE_NAMES = {
    "krippendorff_alpha": "α",
    "fleiss_kappa": "Fleiss' κ",
    "conger_kappa": "Conger's κ",
    "cohen_kappa": "Cohen's κ",
    "scott_pi": "Scott's π",
    "gwet_ac": "Gwet's AC",
    "brennan_prediger": "Brennan–Prediger",
}


def how_to_read(data: Mapping[str, Any]) -> Section | None:
    """A "How to read this" section for the coefficients the report holds (none for others)."""
    metrics = flat_metrics(data.get("metrics") or {})
    if not isinstance(metrics, Mapping) or not metrics:
        return None
    roots = list(dict.fromkeys(name.split(" · ")[0] for name in metrics))
    chance = [_CHANCE_NAMES[r] for r in roots if r in _CHANCE_NAMES]
    paragraphs = [GLOSSARY["percent_agreement"]] if "percent_agreement" in roots else []
    if chance:
        paragraphs += [_CHANCE.format(names=", ".join(chance)), _QUOTE]
    families = dict.fromkeys(_FAMILY.get(r, r) for r in roots if r != "percent_agreement")
    paragraphs += [GLOSSARY[f] for f in families if f in GLOSSARY]
    paragraphs.append("Undefined values are shown as an em dash (—) with the reason in the note.")
    return Section("How to read this", text="\n\n".join(paragraphs), key="how-to-read")
