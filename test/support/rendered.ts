// Markdown rendered as GitHub renders a comment, but keeping raw HTML: any HTML or link that
// leaks through a report shows up in the result, so a test can say it does not.
import { micromark } from 'micromark';
import { gfm, gfmHtml } from 'micromark-extension-gfm';

export function toHtml(markdown: string): string {
  return micromark(markdown, { allowDangerousHtml: true, extensions: [gfm()], htmlExtensions: [gfmHtml()] });
}
