import assert from 'node:assert/strict';
import { markdownText } from '../../../extension/common/markdownText';

describe('extension common: text from a tenant in Markdown', () => {
  it('escapes Markdown in text from a tenant', () => {
    assert.equal(markdownText('[a](command:x) *b* <i> &copy;'), '\\[a\\]\\(command:x\\) \\*b\\* &lt;i&gt; &amp;copy;');
  });
});
