coalesce(c.pseudonymized_author_id,
         CASE WHEN c.author_display_name IS NOT NULL
              THEN 'name:' || c.platform || ':' || c.author_display_name END)
