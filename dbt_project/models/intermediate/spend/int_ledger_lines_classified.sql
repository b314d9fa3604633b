{#-
    Spend class and category of every ledger line, by an explicit priority:
      1. a supplier override (seed supplier_category_overrides) wins;
      2. a public-sector supplier (organisationsnummer starting with 2: state,
         municipality, region) on an account a rule maps to addressable is an
         internal purchase (spend class 'internal',
         category var spendkoll_internal_category, default IN-IK); investments,
         grants and other non-addressable accounts keep their class. Turned off
         with var spendkoll_public_sector_is_internal: false. An account no
         rule matches stays unclassified whoever the supplier is (DQ01 fires);
      3. else the account rule with the longest matching prefix in the active
         rule set (var spendkoll_rule_set: demo_region or kommun_bas);
      4. else spend class 'unclassified', category OK-OK (reported, never dropped).
    left()/length() keep the SQL portable to PostgreSQL.
    A view over the lines this build (re)builds (int_spend_build_scope): on a
    full build every line, on a nightly build the new and changed ones only.
-#}
{{ config(materialized='view') }}
{%- set public_internal = var("spendkoll_public_sector_is_internal") -%}
{%- set internal_category = var("spendkoll_internal_category") -%}
with lines as (
    select * from {{ ref('stg_ledger__lines') }} as staged
    where {{ spendkoll_in_build_scope('staged') }}
),

rules as (
    select * from {{ ref('account_mapping_rules') }}
    where rule_set = '{{ var("spendkoll_rule_set") }}'
),

overrides as (
    select * from {{ ref('supplier_category_overrides') }}
),

-- The best rule is a property of the account alone: find it once per distinct
-- account, not once per line (a ledger has a few hundred accounts and millions
-- of lines).
accounts as (
    select distinct account from lines
    where account is not null
),

account_matches as (
    select
        accounts.account,
        rules.account_prefix,
        rules.spend_class,
        rules.category_id,
        row_number() over (
            partition by accounts.account
            order by length(rules.account_prefix) desc
        ) as match_rank
    from accounts
    inner join rules
        on left(accounts.account, length(rules.account_prefix)) = rules.account_prefix
),

best_account_rule as (
    select * from account_matches
    where match_rank = 1
),

{%- set is_public_internal -%}
    {%- if public_internal -%}
    lines.supplier_legal_form = 'public'
    and best_account_rule.spend_class = 'addressable'
    {%- else -%}
        1 = 0
    {%- endif -%}
{%- endset %}

final as (
    select
        lines.*,
        case
            when overrides.supplier_key is not null then overrides.spend_class
            when {{ is_public_internal }} then 'internal'
            when best_account_rule.account_prefix is not null then best_account_rule.spend_class
            else 'unclassified'
        end as spend_class,
        case
            when overrides.supplier_key is not null then overrides.category_id
            when {{ is_public_internal }} then '{{ internal_category }}'
            when best_account_rule.account_prefix is not null then best_account_rule.category_id
            else 'OK-OK'
        end as category_id,
        case
            when overrides.supplier_key is not null then 'supplier_override'
            when {{ is_public_internal }} then 'public_sector_supplier'
            when best_account_rule.account_prefix is not null
                then 'account_prefix:' || best_account_rule.account_prefix
            else 'no_rule'
        end as classified_by
    from lines
    left join best_account_rule
        on lines.account = best_account_rule.account
    left join overrides
        on lines.supplier_key = overrides.supplier_key
)

select * from final
