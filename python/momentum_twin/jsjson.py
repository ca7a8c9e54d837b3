"""JSON as JavaScript's JSON.stringify writes it (compact, its number format), so metadata the twin
writes reads back in the playground, and a config round-trips byte for byte."""
import json
import math


def js_number(x):
    """ECMAScript Number::toString for a finite double (shortest round-trip digits, as repr)."""
    if isinstance(x, bool):
        return 'true' if x else 'false'
    if isinstance(x, int):
        return str(x)
    if not math.isfinite(x):
        return 'null'  # JSON.stringify writes NaN and Infinity as null
    if x == 0:
        return '0'
    sign = '-' if x < 0 else ''
    mant, _, exp = repr(abs(x)).partition('e')
    e = int(exp) if exp else 0
    whole, _, frac = mant.partition('.')
    digits = (whole + frac).lstrip('0')
    # value = 0.digits * 10^n in ECMAScript's terms: n is the position of the decimal point.
    n = len(whole) + e if whole != '0' else e - (len(frac) - len(frac.lstrip('0')))
    digits = digits.rstrip('0') or '0'
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + '0' * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + '.' + digits[n:]
    if -6 < n <= 0:
        return sign + '0.' + '0' * (-n) + digits
    exp_s = n - 1
    e_part = ('e+' if exp_s >= 0 else 'e-') + str(abs(exp_s))
    return sign + (digits if k == 1 else digits[0] + '.' + digits[1:]) + e_part


def _str(s):
    return json.dumps(s, ensure_ascii=False)


def stringify(v):
    """JSON.stringify(v) for JSON-like Python values (dict order kept)."""
    if v is None:
        return 'null'
    if isinstance(v, (bool, int, float)):
        return js_number(v)
    if isinstance(v, str):
        return _str(v)
    if isinstance(v, (list, tuple)):
        return '[' + ','.join(stringify(x) for x in v) + ']'
    if isinstance(v, dict):
        return '{' + ','.join(_str(str(k)) + ':' + stringify(x) for k, x in v.items()) + '}'
    raise TypeError(f'cannot write {type(v).__name__} as JSON')
