import type { VegaLiteSpec } from './chart';
import { escapeHtml } from './escape';
import { Logger, silentLogger } from './logger';
import { invalidArgument, vegaLoadRejected } from './messages';

/** Options of {@link renderSvg}. */
export interface RenderSvgOptions {
  /** Short text that names the chart; becomes the SVG's `<title>` and its `aria-label`. */
  title: string;
  /** Longer text that describes the chart; becomes the SVG's `<desc>`. */
  description: string;
  /** Receives vega's and vega-lite's warnings. Default value: a silent logger. */
  logger?: Logger;
}

/**
 * Renders a Vega-Lite spec to an SVG document in Node with vega's headless view, without a
 * browser. The view's loader rejects every request, because site charts embed their data.
 * The root `<svg>` gets `role="img"`, an `aria-label` and `<title>`/`<desc>` elements, so the
 * exported file is described for screen readers. vega escapes every text and attribute it
 * writes, so strings from results appear as text.
 *
 * vega 6 and vega-lite 6 are ECMAScript modules; they are loaded with `import()`, which
 * works from CommonJS on Node 20.
 *
 * @param spec - A Vega-Lite spec with inline data.
 * @throws Error when vega-lite cannot compile the spec or vega cannot render it.
 */
export async function renderSvg(spec: VegaLiteSpec, options: RenderSvgOptions): Promise<string> {
  const logger = options.logger ?? silentLogger;
  const vega = await import('vega');
  const vegaLite = await import('vega-lite');

  // Route vega's and vega-lite's console output to the logger.
  const vegaLogger = vega.logger(vega.Warn, undefined, (_method, level, args) => {
    const text = `vega: ${args.map(String).join(' ')}`;
    if (level === 'ERROR' || level === 'WARN') {
      logger.warn(text);
    } else {
      logger.debug(text);
    }
  });

  // Compile to Vega and render headless. The loader rejects every request, so the render stays offline.
  const compiled = vegaLite.compile(spec, { logger: vegaLogger }).spec;
  const reject = (uri: string): Promise<never> => Promise.reject(new Error(vegaLoadRejected(uri)));
  const view = new vega.View(vega.parse(compiled), {
    renderer: 'none',
    logger: vegaLogger,
    loader: { load: reject, sanitize: reject, http: reject, file: reject },
  });
  let svg: string;
  try {
    svg = await view.toSVG();
  } finally {
    view.finalize();
  }

  return describeSvg(svg, options.title, options.description);
}

/**
 * Adds `role="img"`, an `aria-label`, a `<title>` and a `<desc>` to the root element of an
 * SVG document. The texts are escaped.
 *
 * @throws RangeError when the text has no `<svg` start tag.
 */
export function describeSvg(svg: string, title: string, description: string): string {
  const start = svg.indexOf('<svg');
  const end = start < 0 ? -1 : svg.indexOf('>', start);
  if (end < 0) {
    throw new RangeError(invalidArgument('describeSvg', 'svg', 'a document with an <svg> start tag', svg.slice(0, 40)));
  }
  const attributes = ` role="img" aria-label="${escapeHtml(title)}"`;
  const children = `<title>${escapeHtml(title)}</title><desc>${escapeHtml(description)}</desc>`;
  return `${svg.slice(0, end)}${attributes}>${children}${svg.slice(end + 1)}`;
}

/**
 * Returns a copy of a Vega-Lite spec for a static SVG export: without `tooltip` and
 * `description` encodings and with vega's per-mark ARIA attributes turned off. A static file
 * shows no tooltips, and the root `<svg>` still gets its title and description from
 * {@link describeSvg}. With 20,000 points this cuts the render time about threefold and the
 * file about fourfold (measured with vega 6.4.0 on the latency chart of 5,000 rows).
 * Inline data values are shared with the input, not copied.
 */
export function staticExportSpec(spec: VegaLiteSpec): VegaLiteSpec {
  const copy = stripInteractiveEncodings(spec) as Record<string, unknown>;
  copy.config = { ...((copy.config as object | undefined) ?? {}), aria: false };
  return copy as unknown as VegaLiteSpec;
}

function stripInteractiveEncodings(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(stripInteractiveEncodings);
  }
  if (typeof value !== 'object' || value === null) {
    return value;
  }
  const copy: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (key === 'tooltip' || key === 'description') {
      continue;
    }
    copy[key] = key === 'values' ? entry : stripInteractiveEncodings(entry);
  }
  return copy;
}
