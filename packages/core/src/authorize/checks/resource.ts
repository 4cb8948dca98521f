import { findResource, resourceParameterProblem } from '../../rules/resource.js';
import type { AuthorizeCheck } from '../request.js';

/** RFC 8707 §2: at most one resource, which this server protects; without one, the first resource. */
export const checkResource: AuthorizeCheck = (req) => {
  const { resources } = req.core.config;
  if (req.resources.length > 1) throw req.refuse('invalid_target', 'Only one resource may be requested');
  const wanted = req.resources[0];
  const problem = wanted === undefined ? undefined : resourceParameterProblem(wanted);
  if (problem) throw req.refuse('invalid_target', problem);
  const resource = wanted === undefined ? resources[0] : findResource(resources, wanted);
  if (!resource)
    throw req.refuse('invalid_target', 'The requested resource is not served by this authorization server');
  req.resource = resource;
};
