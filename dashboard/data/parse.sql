-- Casting rules for export cells, as macros of this connection only (temp: never stored in the
-- snapshot). parse.py calls them per column of the contract; every argument is a trimmed text cell.

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

-- ISO 7064 MOD 11-2, as used by GB 11643-1999, on an upper-cased 18-character ID.
create or replace temp macro id_check_char(v) as substr('10X98765432', 1 + (
      (ascii(v[1]) - 48) * 7 + (ascii(v[2]) - 48) * 9 + (ascii(v[3]) - 48) * 10 + (ascii(v[4]) - 48) * 5
    + (ascii(v[5]) - 48) * 8 + (ascii(v[6]) - 48) * 4 + (ascii(v[7]) - 48) * 2 + (ascii(v[8]) - 48) * 1
    + (ascii(v[9]) - 48) * 6 + (ascii(v[10]) - 48) * 3 + (ascii(v[11]) - 48) * 7 + (ascii(v[12]) - 48) * 9
    + (ascii(v[13]) - 48) * 10 + (ascii(v[14]) - 48) * 5 + (ascii(v[15]) - 48) * 8 + (ascii(v[16]) - 48) * 4
    + (ascii(v[17]) - 48) * 2) % 11, 1);
-- Why an ID cannot be used, or null. Values that do not look like an ID number at all (letters,
-- hashes) are keys an upstream system already pseudonymised.
create or replace temp macro id_problem(v) as
    case
        when regexp_full_match(v, '[0-9]{17}[0-9X]') then
            case
                when id_check_char(v) = v[18] then null
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
