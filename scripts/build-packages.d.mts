/** The published packages (folder names) whose dist/ is missing or older than what builds it. */
export function stalePackages(): string[];
