{#-
    Spend class and category of every ledger line, by an explicit priority:
      1. a supplier override (seed supplier_category_overrides) wins;
      2. a public-sector supplier (organisationsnummer starting with 2: state,
         municipality, region) on an account that would be addressable, or on
         no rule at all, is an internal purchase (spend class 'internal',
         category var spendkoll_internal_category, default IN-IK); investments,
         grants and other non-addressable accounts keep their class. Turned off
         with var spendkoll_public_sector_is_internal: false;
      3. else the account rule with the longest matching prefix in the active
         rule set (var spendkoll_rule_set: demo_region or kommun_bas);
      4. else spend class 'unclassified', category OK-OK (reported, never dropped).
    left()/length() keep the SQL portable to PostgreSQL.
-#}
{%- set public_internal = var("spendkoll_public_sector_is_internal", true) -%}
{%- set internal_category = var("spendkoll_internal_category", "IN-IK") -%}
with lines as (
    select * from {{ ref('stg_raw__ledger_lines') }}
),

rules as (
    select * from {{ ref('account_mapping_rules') }}
    where rule_set = '{{ var("spendkoll_rule_set", "demo_region") }}'
),

overrides as (
    select * from {{ ref('supplier_category_overrides') }}
),

account_matches as (
    select
        lines.ledger_line_id,
        rules.account_prefix,
        rules.spend_class,
        rules.category_id,
        row_number() over (
            partition by lines.ledger_line_id
            order by length(rules.account_prefix) desc
        ) as match_rank
    from lines
    inner join rules
        on left(lines.account, length(rules.account_prefix)) = rules.account_prefix
),

best_account_rule as (
    select * from account_matches where match_rank = 1
),

{%- set is_public_internal -%}
    {%- if public_internal -%}
    lines.supplier_legal_form = 'public'
    and coalesce(best_account_rule.spend_class, 'addressable') = 'addressable'
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
        on best_account_rule.ledger_line_id = lines.ledger_line_id
    left join overrides
        on overrides.supplier_key = lines.supplier_key
)

select * from final
