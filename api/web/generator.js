// The generator panel (registrar and admin keys): filled in by a later
// change; for now it says where the generator is driven from.

import { $, h, show } from "./dom.js";

export function startGenerator() {
  show($("generatorBody"), h("p", { class: "help" },
    "The face-swap generator makes labelled fakes for training. Start its jobs with the API (POST /v1/generator/jobs) or trueframe generate."));
}
