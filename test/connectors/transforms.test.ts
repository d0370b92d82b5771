import { compileTransform, normalizeKey, parseDateTime, reverseEnum, TransformError } from '../../src/connectors/transforms';
import { compileRecordMapper } from '../../src/connectors/record-mapper';

describe('value transforms', () => {
  it('reads the date formats real APIs send', () => {
    expect(parseDateTime('2021-03-04T10:15:00.000+0000')).toBe('2021-03-04T10:15:00.000Z');
    expect(parseDateTime('2024-05-01 13:45:10')).toBe('2024-05-01T13:45:10.000Z');
    expect(parseDateTime('2024-05-01T15:45:10+02:00')).toBe('2024-05-01T13:45:10.000Z');
    expect(compileTransform('epochSeconds')!(1689012345)).toBe('2023-07-10T18:05:45.000Z');
    expect(() => parseDateTime('yesterday')).toThrow(TransformError);
    expect(() => parseDateTime('2024-13-45T99:00:00Z')).toThrow(/valid date|ISO-8601/);
  });

  it('converts minor units, ids and enums, and rejects what does not fit', () => {
    expect(compileTransform('minorUnits')!(12999)).toBe(129.99);
    expect(() => compileTransform('minorUnits')!(12.5)).toThrow(/minor units/);
    expect(compileTransform('id')!(500123)).toBe('500123');
    const segment = compileTransform({ enum: { ENT: 'ENTERPRISE', SMB: 'SMALL_BUSINESS' } })!;
    expect(segment('ENT')).toBe('ENTERPRISE');
    expect(() => segment('XL')).toThrow('expected one of ENT, SMB, found a string of 2 characters');
    expect(reverseEnum({ enum: { ENT: 'ENTERPRISE' } }, 'ENTERPRISE')).toBe('ENT');
  });

  it('normalizes emails and keys for comparison', () => {
    expect(compileTransform('email')!('  Ada.Lovelace@Example.COM\t')).toBe('ada.lovelace@example.com');
    expect(normalizeKey('email', ' A@B.c ')).toBe('a@b.c');
    expect(normalizeKey('none', ' A ')).toBe(' A ');
  });
});

describe('record mapping', () => {
  const map = compileRecordMapper(
    {
      id: { from: 'Id', transform: 'id' },
      owner: 'Owner.Name',
      total: { from: 'total_minor', transform: 'minorUnits' },
      lines: { from: 'lines', items: { type: 'Line', fields: { sku: 'sku', quantity: { from: 'qty', transform: 'int' } } } },
    },
    ['id'],
  );

  it('maps nested paths and item lists', () => {
    expect(map({ Id: 7, Owner: { Name: 'Grace' }, total_minor: 150, lines: [{ sku: 'A', qty: 2 }] })).toEqual({
      ok: true,
      record: { id: '7', owner: 'Grace', total: 1.5, lines: [{ sku: 'A', quantity: 2 }] },
    });
  });

  it('serves missing optional values as null and rejects a record with no key', () => {
    expect(map({ Id: 'x', lines: [] })).toEqual({ ok: true, record: { id: 'x', owner: null, total: null, lines: [] } });
    expect(map({ Owner: { Name: 'Grace' } })).toEqual({ ok: false, rejection: { field: 'id', from: 'Id', reason: 'is required but missing', summary: 'id: required but missing' } });
  });

  it('transforms a list of values element by element, and takes one value sent alone as a list of one', () => {
    const lists = compileRecordMapper({ shop: { from: 'shops', type: '[ID!]', transform: 'id' }, desk: { from: 'emails', type: '[String!]', transform: 'email' } });
    expect(lists({ shops: [8812, '9001'], emails: [' Ann@Example.COM', 'bo@example.com'] })).toEqual({ ok: true, record: { shop: ['8812', '9001'], desk: ['ann@example.com', 'bo@example.com'] } });
    expect(lists({ shops: 8812, emails: [] })).toEqual({ ok: true, record: { shop: ['8812'], desk: [] } });
    expect(lists({ shops: [8812, 1.5] })).toMatchObject({ ok: false, rejection: { field: 'shop', reason: 'expected an id (a non-empty string or an integer), found a number' } });
  });

  it('names the field and the rule a bad value broke', () => {
    const result = map({ Id: 'x', total_minor: 'ten' });
    expect(result).toEqual({ ok: false, rejection: { field: 'total', from: 'total_minor', reason: 'expected an integer amount in minor units, found a string of 3 characters', summary: 'total: expected an integer amount in minor units, found a string' } });
  });
});
