-- Casting rules for export cells, as macros of this connection only (temp: never stored in the
-- snapshot). parse.py calls them per column of the contract; every argument is a trimmed text cell.

-- trim(v): DuckDB's trim takes the space separators (U+0020, U+00A0, U+2000-U+200A, U+3000, ...)
-- off both ends, copying every cell; most cells of a big file start and end in printable ASCII,
-- which no trim changes, and are passed as they are.
create or replace temp macro trimmed(v) as
    case when ascii(v) between 33 and 126 and ascii(v[-1]) between 33 and 126 then v else trim(v) end;

-- "1,234" is a number Excel formatted; NaN and infinities are not numbers anyone typed.
create or replace temp macro parse_number(v) as try_cast(trim(replace(v, ',', '')) as double);
create or replace temp macro as_float(v) as
    case when not isnan(parse_number(v)) and not isinf(parse_number(v)) then parse_number(v) end;
create or replace temp macro as_int(v) as
    case when parse_number(v) = floor(parse_number(v)) then try_cast(parse_number(v) as bigint) end;

-- 2022-01-06, 2022/1/6, 2022年1月6日, 2022.1.6, each with an optional [ T]HH:MM[:SS].
create or replace temp macro date_parts(v) as regexp_extract(
    v,
    '^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$',
    ['yy', 'mo', 'dd', 'hh', 'mi', 'ss']);
create or replace temp macro stamp_of_parts(p) as
    case when p.yy <> '' then try_cast(
        p.yy || '-' || lpad(p.mo, 2, '0') || '-' || lpad(p.dd, 2, '0') || ' '
        || lpad(coalesce(nullif(p.hh, ''), '0'), 2, '0') || ':' || coalesce(nullif(p.mi, ''), '00') || ':'
        || coalesce(nullif(p.ss, ''), '00')
        as timestamp) end;
-- Excel's serial day numbers between 1955 and 2100: anything else is not a date someone typed.
create or replace temp macro stamp_of_serial(v) as
    case when try_cast(v as double) > 20000 and try_cast(v as double) < 73000
         then timestamp '1899-12-30' + to_seconds(round(try_cast(v as double) * 86400)) end;
-- Most rows of a big file are ISO already: the cast takes them before any pattern runs.
create or replace temp macro parse_stamp(v) as
    case when v <> '' then coalesce(
        case when regexp_full_match(v, '\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?')
             then try_cast(v as timestamp) end,
        stamp_of_parts(date_parts(v)),
        stamp_of_serial(v)) end;

-- ISO 7064 MOD 11-2, as used by GB 11643-1999: n is the first 17 digits as a number, because
-- integer arithmetic on 17 digits is several times faster than 17 substrings.
create or replace temp macro id_checksum(n) as (
      (n // 10000000000000000) % 10 * 7 + (n // 1000000000000000) % 10 * 9 + (n // 100000000000000) % 10 * 10
    + (n // 10000000000000) % 10 * 5 + (n // 1000000000000) % 10 * 8 + (n // 100000000000) % 10 * 4
    + (n // 10000000000) % 10 * 2 + (n // 1000000000) % 10 * 1 + (n // 100000000) % 10 * 6
    + (n // 10000000) % 10 * 3 + (n // 1000000) % 10 * 7 + (n // 100000) % 10 * 9 + (n // 10000) % 10 * 10
    + (n // 1000) % 10 * 5 + (n // 100) % 10 * 8 + (n // 10) % 10 * 4 + n % 10 * 2) % 11;
create or replace temp macro id_check_char(n) as substr('10X98765432', 1 + id_checksum(n), 1);
-- Why an ID cannot be used, or null. Values that do not look like an ID number at all (letters,
-- hashes) are keys an upstream system already pseudonymised. v is upper-cased, n its first 17
-- characters as a number (a column of its own: a macro repeats its arguments wherever it uses them).
-- The first case takes a good ID number without the pattern, a third of the cost on a city's
-- file: 18 bytes, the first 17 a number of 17 digits (nothing else casts to one: no sign, space
-- or point fits), and the right check character.
create or replace temp macro id_problem(v, n) as
    case
        when strlen(v) = 18 and n between 10000000000000000 and 99999999999999999 and id_check_char(n) = v[18]
            then null
        when regexp_full_match(v, '[0-9]{17}[0-9X]') then
            case
                when id_check_char(n) = v[18] then null
                -- A 15-digit prefix followed by zeros is what Excel leaves of an 18-digit number.
                when suffix(v, '000') then 'ID number damaged by Excel (last digits turned to 0)'
                else 'ID number fails its check digit'
            end
        when regexp_full_match(v, '[0-9](\.[0-9]+)?E\+?[0-9]+') then 'ID number damaged by Excel (scientific notation)'
        when regexp_full_match(v, '[0-9]+') then 'ID number is not 18 characters'
    end;
-- HMAC-SHA256 (RFC 2104) given the key's inner and outer pads: the tests check it against hmac.new.
create or replace temp macro hmac_hex(inner_pad, outer_pad, v) as
    sha256(outer_pad || unhex(sha256(inner_pad || encode(v))));
-- A person's key: the first 128 bits of the HMAC, as a UUID. Sixteen bytes of fixed width where
-- the hex text took 64: a city's testing day is written, counted per person and read back in half
-- the bytes, and two of 100 million persons share a key with a chance of about 1 in 10^22.
create or replace temp macro hmac_key(inner_pad, outer_pad, v) as
    (('0x' || left(hmac_hex(inner_pad, outer_pad, v), 32))::uhugeint)::uuid;
