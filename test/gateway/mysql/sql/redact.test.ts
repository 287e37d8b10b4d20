import { describe, expect, it } from 'vitest';
import { redactMysql } from '../../../../src/gateway/mysql/redact.js';

describe('statement text redacted for the audit (audit.statements: redacted)', () => {
  it('replaces strings, numbers and hex literals, keeps identifiers and structure, drops comments', () => {
    expect(redactMysql("SELECT * FROM `t1` WHERE name = 'it\\'s' AND id IN (1, 22) AND h = 0xFF -- card 4111\n")).toBe('SELECT * FROM `t1` WHERE name = ? AND id IN (?, ?) AND h = ?');
    expect(redactMysql('UPDATE orders SET note = "a ""quoted"" word" /* pin 1234 */ WHERE id = 7')).toBe('UPDATE orders SET note = ? WHERE id = ?');
    expect(redactMysql('SELECT col2 FROM t3')).toBe('SELECT col2 FROM t3');
  });

  it('a text the lexer cannot read is not kept at all', () => {
    expect(redactMysql("SELECT 'unterminated")).toBe('[statement that could not be read; text redacted]');
  });
});
