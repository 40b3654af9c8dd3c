typedef int internal_placeholder;
