// Findings grouped by their root cause. When the engine could not establish a fact
// (no location, no geometry), every rule that needed it is held for review too: those
// are shown as one finding that names the rules it held, not as ten.

const SEVERITY = { deny: 0, review: 1, allow_with_conditions: 2, allow: 3 };

// Engine findings that make the facts other rules need unknowable.
const FACT_CAUSES = new Set(["MAPGATE-LOCATION-UNKNOWN", "MAPGATE-EMPTY"]);

function missingFacts(finding) {
  return Object.entries(finding.facts || {})
    .filter(([, value]) => value === null)
    .map(([name]) => name);
}

function isHeld(finding) {
  return finding.pack !== "mapgate" && missingFacts(finding).length > 0;
}

// [{cause: finding|null, missing: [fact], held: [finding]}] most severe first.
export function groupFindings(findings) {
  const cause = findings.find((f) => FACT_CAUSES.has(f.rule_id)) || null;
  const groups = [];
  const unmeasured = [];
  for (const finding of findings) {
    if (finding === cause) continue;
    if (isHeld(finding)) unmeasured.push(finding);
    else groups.push({ cause: finding, missing: [], held: [] });
  }
  if (cause) {
    groups.push({ cause, missing: [], held: unmeasured });
  } else if (unmeasured.length) {
    const missing = [...new Set(unmeasured.flatMap(missingFacts))].sort();
    groups.push({ cause: null, missing, held: unmeasured });
  }
  const effect = (g) => (g.cause ? g.cause.effect : "review");
  groups.sort((a, b) => SEVERITY[effect(a)] - SEVERITY[effect(b)]);
  return groups;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function ruleLine(finding) {
  const line = el("p", "rule");
  line.append(el("code", "", finding.rule_id), ` (${finding.pack}) · `);
  line.append(el("span", `effect effect-${finding.effect}`, finding.effect.replaceAll("_", " ")));
  return line;
}

function heldList(held) {
  const list = el("ul", "held");
  for (const finding of held) {
    const item = el("li");
    item.append(el("code", "", finding.rule_id), ` (${finding.pack}): `);
    item.append(el("cite", "", finding.reference || "no citation"));
    list.append(item);
  }
  return list;
}

export function renderFindings(container, findings) {
  container.replaceChildren();
  const groups = groupFindings(findings || []);
  if (!groups.length) {
    container.append(el("p", "", "No rule fired: nothing holds this export back."));
    return;
  }
  for (const group of groups) {
    const card = el("article", "finding");
    if (group.cause) {
      card.classList.add(`finding-${group.cause.effect}`);
      card.append(ruleLine(group.cause));
      card.append(el("p", "message", group.cause.message));
      const basis = el("p", "citation", "Basis: ");
      basis.append(el("cite", "", group.cause.reference || "no citation"));
      card.append(basis);
    } else {
      card.classList.add("finding-review");
      card.append(el("p", "rule", "Facts that could not be measured"));
      card.append(el("p", "message", `Not available: ${group.missing.join(", ")}.`));
    }
    if (group.held.length) {
      card.dataset.held = group.held.map((f) => f.rule_id).join(" ");
      card.append(el("p", "", `It held ${group.held.length} rule(s) for review, which could not be evaluated:`));
      card.append(heldList(group.held));
    }
    container.append(card);
  }
}
