// The Snowflake setup an administrator runs before adding a connector, taken from docs/snowflake-setup.md
// at build time (one source: the page the docs link to is the page the form shows), with the names the
// form holds put in place of the doc's defaults.
import doc from "../../docs/snowflake-setup.md?raw";

export interface SetupStep {
  title: string;
  lang: string;
  code: string;
}

export interface SetupNames {
  role: string;
  warehouse: string;
  user: string;
}

export const DEFAULT_NAMES: SetupNames = { role: "SNOWWATCH_READER", warehouse: "SNOWWATCH_WH", user: "SNOWWATCH" };

/** The numbered sections ("## 1. The role" … "## 5. …") with their code blocks, names substituted. */
export function setupSteps(names: Partial<SetupNames> = {}, text: string = doc): SetupStep[] {
  const n = { ...DEFAULT_NAMES, ...Object.fromEntries(Object.entries(names).filter(([, v]) => v && v.trim())) };
  const steps: SetupStep[] = [];
  for (const section of text.split(/^## /m).slice(1)) {
    const title = section.split("\n", 1)[0].trim();
    if (!/^[1-5]\.\s/.test(title)) continue;
    for (const m of section.matchAll(/```(\w+)\n([\s\S]*?)```/g)) {
      const code = m[2]
        .replace(/\bSNOWWATCH_READER\b/g, n.role)
        .replace(/\bSNOWWATCH_WH\b/g, n.warehouse)
        .replace(/\bSNOWWATCH(?=\s|;|$)/gm, n.user);
      steps.push({ title, lang: m[1], code: code.trimEnd() });
    }
  }
  return steps;
}
