UNWIND [1, 2.5, null, 'x', [3]] AS v RETURN v, CASE WHEN v IS NULL THEN 'none' ELSE toString(v) END AS s, [1,2,3][-1], {a: v}.a, 7 % 3, 2 ^ 10
