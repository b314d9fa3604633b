{#-
    Spend class and category of every ledger line, by an explicit priority:
      1. a supplier override (seed supplier_category_overrides) wins;
      2. else the account rule with the longest matching prefix in the active
         rule set (var spendkoll_rule_set: demo_region or kommun_bas);
      3. else spend class 'unclassified', category OK-OK (reported, never dropped).
    left()/length() keep the SQL portable to PostgreSQL.
-#}
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

final as (
    select
        lines.*,
        coalesce(overrides.spend_class, best_account_rule.spend_class, 'unclassified')
            as spend_class,
        coalesce(overrides.category_id, best_account_rule.category_id, 'OK-OK') as category_id,
        case
            when overrides.supplier_key is not null then 'supplier_override'
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
