// FHIR.js (Lantana, npm `fhir`), an independent R4 validator, for the tests (tests/support/fhir_tools.py).
// Reads one JSON resource per line on stdin; writes one line per resource on stdout:
// {"valid": bool, "messages": [{"location", "severity", "message"}, ...]}.
//
// FHIR.js follows no contentReference, so it checks only the first level of a Questionnaire's or
// a QuestionnaireResponse's items (item.item, answer.item refer back to item). Each such resource,
// alone or in a Bundle, is therefore also validated with every item, at any depth, lifted to the
// first level; what is found there is reported under the location "nested: ...".
"use strict";
const readline = require("readline");
const { Fhir } = require("fhir");

const fhir = new Fhir();

function flattened(items, into) {
  for (const item of items || []) {
    const { item: children, ...rest } = item;
    if (Array.isArray(rest.answer)) {
      rest.answer = rest.answer.map(({ item: nested, ...answer }) => {
        flattened(nested, into);
        return answer;
      });
    }
    into.push(rest);
    flattened(children, into);
  }
  return into;
}

function withNestedItemsLifted(resource) {
  const found = [];
  const resources = [resource];
  if (resource && resource.resourceType === "Bundle") {
    for (const entry of resource.entry || []) if (entry && entry.resource) resources.push(entry.resource);
  }
  for (const each of resources) {
    const kind = each && each.resourceType;
    if ((kind === "Questionnaire" || kind === "QuestionnaireResponse") && Array.isArray(each.item)) {
      found.push({ ...each, item: flattened(each.item, []) });
    }
  }
  return found;
}

function validate(resource) {
  const result = fhir.validate(resource);
  for (const lifted of withNestedItemsLifted(resource)) {
    for (const message of fhir.validate(lifted).messages) {
      result.messages.push({ ...message, location: "nested: " + message.location });
      if (message.severity === "error") result.valid = false;
    }
  }
  return result;
}

const lines = readline.createInterface({ input: process.stdin, terminal: false });
lines.on("line", (line) => {
  let result;
  try {
    result = validate(JSON.parse(line));
  } catch (error) {
    result = { valid: false, messages: [{ location: "", severity: "error", message: String(error) }] };
  }
  process.stdout.write(JSON.stringify(result) + "\n");
});
