// console.js — the supplysec web console.
