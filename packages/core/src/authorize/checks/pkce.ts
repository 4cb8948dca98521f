import { challengeProblem } from '../../rules/pkce.js';
import type { AuthorizeCheck } from '../request.js';

/** OAuth 2.1 §4.1.1 / RFC 7636 §4.3: PKCE with S256 is mandatory; `plain` and a missing method are refused. */
export const checkPkce: AuthorizeCheck = (req) => {
  const challenge = req.params.get('code_challenge');
  const problem = challengeProblem(challenge, req.params.get('code_challenge_method'));
  if (problem) throw req.refuse('invalid_request', problem);
  req.codeChallenge = challenge;
};
