"""axe-core (the npm package, installed by `make test` under tests/browser/axe) run in the page
being tested. axe sets inline styles as it measures, so its pages (the `axe_pages` fixture) do
not enforce the Content-Security-Policy; every other browser test does."""

from functools import cache
from pathlib import Path

AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@cache
def axe_source() -> str:
    if not AXE.exists():
        raise RuntimeError(
            f"{AXE} is missing: `make test` installs it (npm ci in tests/browser/axe)"
        )
    return AXE.read_text()


def axe_violations(page) -> list[str]:
    """Serious and critical WCAG 2.x A/AA violations on the page as it is now, one line each."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    violations = page.evaluate(
        """async (tags) => (await axe.run(document, {
            runOnly: {type: "tag", values: tags}, resultTypes: ["violations"],
        })).violations""",
        WCAG,
    )
    return [
        f"{v['impact']} {v['id']}: {v['help']} — {[n['target'][0] for n in v['nodes'][:3]]}"
        for v in violations
        if v["impact"] in BLOCKING
    ]


def focus_ring(page) -> dict:
    """What marks the focused element: an outline or a box shadow on it, or on the wrapper that
    draws the ring for it (`:focus-within`, like the amount field's)."""
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const ringed = (node) => {
                const style = getComputedStyle(node);
                return (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0)
                    || style.boxShadow !== "none";
            };
            const wrapper = el.parentElement && el.parentElement.matches(":focus-within")
                ? el.parentElement : null;
            return {
                element: el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + " "
                    + (el.textContent || "").trim().slice(0, 30),
                ringed: ringed(el) || (wrapper !== null && ringed(wrapper)),
            };
        }"""
    )
